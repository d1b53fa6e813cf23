#!/usr/bin/env node
import '../dist/cli/gitwatch.js';
