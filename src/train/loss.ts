/**
 * The paper's training loss (MAM-SPEC.md section 5): 0.4·CE + 0.6·Dice by
 * default (DA-TransUNet's protocol uses 0.5·CE + 0.5·Dice: the weights are options), where
 * Dice loss = mean over all K classes (background included) of
 * 1 − (2·Σp·g + 1e-5) / (Σp² + Σg² + 1e-5), with p the softmax probabilities,
 * g the one-hot labels, and every sum over the whole batch (all images and
 * pixels together), as the reference DiceLoss does.
 */
import * as tf from '#tfjs';
import { expNonPositive } from '../ops/layers.ts';
import { DEFAULT_LOSS } from './rules.ts';

export const CE_WEIGHT = DEFAULT_LOSS.ce;
export const DICE_WEIGHT = DEFAULT_LOSS.dice;
export const DICE_SMOOTH = 1e-5;

export interface LossOptions {
  ceWeight?: number;
  diceWeight?: number;
  smooth?: number;
}

export interface LossParts {
  loss: tf.Scalar;
  ce: tf.Scalar;
  dice: tf.Scalar;
}

/**
 * [loss, ce, dice] of logits `[B, H, W, K]` against label maps `g` (float,
 * one-hot or any non-negative weights per pixel) with the analytic gradient,
 * p = softmax(z), P pixels, s the smoothing:
 *
 * - ∂CE/∂z = (p·Σ_k g − g)/P;
 * - Dice: ∂/∂p_ik = a_k·g_ik + b_k·p_ik with a_k = −2/(K·d_k),
 *   b_k = 2(2I_k + s)/(K·d_k²), d_k = Σp² + Σg² + s, I_k = Σp·g; then
 *   through the softmax, ∂/∂z = p ⊙ (G − Σ_k G_k·p_k).
 *
 * Autodiff of the same expression runs three times the kernels, and tfjs's
 * Sum gradient builds a JavaScript array of ones the size of the logits.
 */
function lossTerms(ceWeight: number, diceWeight: number, smooth: number) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [logits, g, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    const [B, H, W, K] = logits.shape;
    const pixels = B * H * W;
    // log-softmax and softmax from one e^(z − max z) (≤ 1, see expNonPositive)
    const zc = tf.sub(logits, tf.max(logits, -1, true));
    const e = expNonPositive(zc);
    const total = tf.sum(e, -1, true);
    const logp = tf.sub(zc, tf.log(total));
    const ce = tf.div(tf.neg(tf.sum(tf.mul(g, logp))), pixels);
    const p = tf.div(e, total);
    const axes = [0, 1, 2];
    const inter = tf.sum(tf.mul(p, g), axes);
    const den = tf.add(tf.add(tf.sum(tf.square(p), axes), tf.sum(tf.square(g), axes)), smooth);
    const num = tf.add(tf.mul(inter, 2), smooth);
    const dice = tf.mean(tf.sub(1, tf.div(num, den)));
    const loss = tf.add(tf.mul(ce, ceWeight), tf.mul(dice, diceWeight));
    save([p, g, num, den]);
    return {
      value: tf.stack([loss, ce, dice]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [ps, gs, nm, dn] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
          const [dLoss, dCe, dDice] = tf.unstack(dy);
          const cCe = tf.add(tf.mul(dLoss, ceWeight), dCe);
          const cDice = tf.add(tf.mul(dLoss, diceWeight), dDice);
          const dCeDz = tf.div(tf.sub(tf.mul(ps, tf.sum(gs, -1, true)), gs), pixels);
          const a = tf.div(-2 / K, dn);
          const b = tf.div(tf.mul(nm, 2 / K), tf.square(dn));
          const G = tf.add(tf.mul(gs, a), tf.mul(ps, b));
          const dDiceDz = tf.mul(ps, tf.sub(G, tf.sum(tf.mul(G, ps), -1, true)));
          return [tf.add(tf.mul(dCeDz, cCe), tf.mul(dDiceDz, cDice)), tf.zerosLike(gs)];
        }),
    };
  });
}

/**
 * Loss of logits `[B, H, W, K]` (or volumes `[B, D, H, W, K]`) against labels:
 * integer class indices `[B, H, W]` (`[B, D, H, W]`) or one-hot with the
 * logits' shape. Pure tfjs ops with gradients on every backend (logSoftmax,
 * exp, mul, sum).
 */
export function segmentationLoss(
  logits: tf.Tensor4D | tf.Tensor5D,
  labels: tf.Tensor,
  opts: LossOptions = {},
): LossParts {
  const { ceWeight = CE_WEIGHT, diceWeight = DICE_WEIGHT, smooth = DICE_SMOOTH } = opts;
  const [b, ...rest] = logits.shape;
  const k = rest[rest.length - 1];
  const last = rest[rest.length - 2];
  // Every sum runs over the batch and all positions alike, so a volume is the image [B, D·H, W, K].
  const flat: [number, number, number, number] = [b, logits.size / (b * last * k), last, k];
  return tf.tidy(() => {
    const oneHot = labels.rank === logits.rank;
    // oneHot in its default int32, then cast: tfjs-backend-wasm 4.22 returns all zeros for oneHot(…, 'float32').
    const g = tf.cast(
      oneHot
        ? tf.reshape(labels, flat)
        : tf.oneHot(tf.reshape(tf.cast(labels, 'int32'), [b, flat[1], last]) as tf.Tensor3D, k),
      'float32',
    ) as tf.Tensor4D;
    const terms = lossTerms(ceWeight, diceWeight, smooth)(tf.reshape(logits, flat), g);
    const [loss, ce, dice] = tf.unstack(terms) as tf.Scalar[];
    return { loss, ce, dice };
  });
}
