/** Token-aware chunking. Outside code imports this file only; the other modules here are its parts. */
export { type Chunk, type ChunkOptions, chunkText } from './chunker.ts';
export { sectionHeadingsAt } from './section-headings.ts';
