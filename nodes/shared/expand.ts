import {
  type InferContext,
  type InferResult,
  isProblem,
  layerNormWeights,
  linearWeights,
  product,
  tokensIn,
  unknownResult,
} from '../../src/graph/node-kind.ts';

/**
 * Pixel-shuffle expansion shared by patch expanding (×2, C → C/2) and final
 * expanding (×s, C → C): Linear C → s^dims·C_out, shuffle, LayerNorm(C_out).
 */
export function expandTokens(ctx: InferContext, scale: number, halve: boolean): InferResult {
  const t = tokensIn(ctx);
  if (!t) return unknownResult();
  if (isProblem(t)) return unknownResult([t]);
  const c = t.channels;
  // patch expanding halves the channels; final expanding keeps them at any scale (also ×2)
  const outC = halve ? c / 2 : c;
  const problems =
    halve && c % 2 !== 0 ? [{ message: `${c} channels cannot be halved by patch expanding` }] : [];
  const outC0 = Math.floor(outC);
  const expanded = scale ** t.grid.length * outC0;
  return {
    outputs: { out: { kind: 'tokens', grid: t.grid.map((g) => g * scale), channels: outC0 } },
    problems,
    weights: [...linearWeights('expand.', c, expanded, false), ...layerNormWeights('norm.', outC0)],
    macs: { linearConv: product(t.grid) * expanded * c, attention: 0 },
  };
}
