// The one piece of isomorphic-git gitwatch uses, behind its own module: http-refs.ts loads it only when an
// HTTP remote is checked, and the bundle keeps only what this import needs (a dynamic import of the package
// itself would keep all of it).

export { listServerRefs } from 'isomorphic-git';
