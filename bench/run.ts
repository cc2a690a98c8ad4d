/** `npm run bench`: every benchmark, or the ones named on the command line (`npm run bench -- infer`). */
const all = ['infer', 'compile', 'train', 'editor'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of wanted.length ? wanted : all) {
  const mod = await import(`./${name}.ts`);
  await mod.run(process.argv.slice(2));
}
