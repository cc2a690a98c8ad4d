/** `npm run bench`: every benchmark, or the ones named on the command line (`npm run bench -- infer`). */
import { exitLine, isWasmOutOfMemory } from '../src/backend/out-of-memory.ts';
import { EXIT_CODES } from '../src/session/errors.ts';

const all = ['infer', 'compile', 'train', 'editor'];
// Names, not flags or their values (`demo-learning --minutes 15 --preset demo-mam`).
const args = process.argv.slice(2);
const wanted = args.filter((a, i) => !a.startsWith('-') && !args[i - 1]?.startsWith('--'));
for (const name of wanted.length ? wanted : all) {
  const mod = await import(`./${name}.ts`);
  try {
    await mod.run(process.argv.slice(2));
  } catch (e) {
    // a mistake on the command line (bench/peer.ts's BenchUsageError): its one line, exit 64
    if (e instanceof Error && e.name === 'BenchUsageError') {
      console.error(e.message);
      process.exit(EXIT_CODES.usage);
    }
    // out of wasm memory: one line and exit 5, as the `mam` command says it
    if (!isWasmOutOfMemory(e)) throw e;
    console.error(`bench ${name}: ${exitLine(e, 'the benchmark')}`);
    process.exit(EXIT_CODES.backend);
  }
}
