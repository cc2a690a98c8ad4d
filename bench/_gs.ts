process.on('exit', () => {
  const st = (globalThis as any).__gs as Map<string, any>;
  const rows = [...st.entries()].sort((a, b) => b[1].own + b[1].wait - a[1].own - a[1].wait);
  let own = 0, wait = 0;
  for (const [k, e] of rows) { own += e.own; wait += e.wait; }
  console.error('TOTAL own', own.toFixed(1), 'wait', wait.toFixed(1));
  for (const [k, e] of rows.slice(0, 40)) console.error(k.padEnd(28), e.n, 'own', (e.own / e.n * 1000).toFixed(0), 'us wait', (e.wait / e.n * 1000).toFixed(0), 'us');
});
