/**
 * The 3D reference's loss (3D-MAM-SPEC.md §f): MONAI's
 * `DiceCELoss(to_onehot_y=True, softmax=True)` with its defaults. Dice per
 * sample and class over the voxels (batch=False), denominators Σp + Σg (not
 * squared), smooth 1e-5 above and below, background included, averaged over
 * samples and classes; cross-entropy averaged over every voxel; weights 1 : 1.
 * (The 2D networks' loss, src/train/loss.ts, pools the batch and squares.)
 * Plain tfjs ops, so autograd gives the gradient on every backend.
 */
import * as tf from '#tfjs';
import type { LossParts } from './loss.ts';

export const MONAI_DICE_SMOOTH = 1e-5;

/** Logits `[B, …spatial, K]`, labels `[B, …spatial]` (class indices). */
export function diceCeLoss(
  logits: tf.Tensor,
  labels: tf.Tensor,
  weights: { ce: number; dice: number } = { ce: 1, dice: 1 },
): LossParts {
  return tf.tidy(() => {
    const K = logits.shape[logits.rank - 1];
    const B = logits.shape[0];
    // oneHot in its default int32, then cast (tfjs-backend-wasm 4.22's float32 oneHot gives zeros)
    const g = tf
      .cast(tf.oneHot(tf.cast(labels, 'int32').flatten(), K), 'float32')
      .reshape([B, -1, K]);
    const z = logits.reshape([B, -1, K]);
    const logp = tf.logSoftmax(z, -1);
    const ce = tf.neg(tf.mean(tf.sum(tf.mul(g, logp), -1)));
    const p = tf.exp(logp);
    const inter = tf.sum(tf.mul(p, g), 1);
    const den = tf.add(tf.sum(p, 1), tf.sum(g, 1));
    const dice = tf.mean(
      tf.sub(
        1,
        tf.div(tf.add(tf.mul(inter, 2), MONAI_DICE_SMOOTH), tf.add(den, MONAI_DICE_SMOOTH)),
      ),
    );
    const loss = tf.add(tf.mul(ce, weights.ce), tf.mul(dice, weights.dice));
    return { loss: loss as tf.Scalar, ce: ce as tf.Scalar, dice: dice as tf.Scalar };
  });
}
