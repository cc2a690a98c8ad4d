export * from './link.ts';
export * from './png.ts';
export { graphFileName } from './filename.ts';
export { crc32, adler32 } from './checksum.ts';
