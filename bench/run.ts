/** `npm run bench`: every benchmark, or the ones named on the command line (`npm run bench -- infer`). */
const all = ['infer', 'compile', 'train', 'editor'];
// Names, not flags or their values (`demo-learning --minutes 15 --preset demo-mam`).
const args = process.argv.slice(2);
const wanted = args.filter((a, i) => !a.startsWith('-') && !args[i - 1]?.startsWith('--'));
for (const name of wanted.length ? wanted : all) {
  const mod = await import(`./${name}.ts`);
  await mod.run(process.argv.slice(2));
}
