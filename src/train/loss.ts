/**
 * The paper's training loss (MAM-SPEC.md section 5): 0.4·CE + 0.6·Dice, where
 * Dice loss = mean over all K classes (background included) of
 * 1 − (2·Σp·g + 1e-5) / (Σp² + Σg² + 1e-5), with p the softmax probabilities,
 * g the one-hot labels, and every sum over the whole batch (all images and
 * pixels together), as the reference DiceLoss does.
 */
import * as tf from '#tfjs';

export const CE_WEIGHT = 0.4;
export const DICE_WEIGHT = 0.6;
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
 * Loss of logits `[B, H, W, K]` against labels: integer class indices
 * `[B, H, W]` or one-hot `[B, H, W, K]`. Pure tfjs ops with gradients on
 * every backend (logSoftmax, exp, mul, sum).
 */
export function segmentationLoss(
  logits: tf.Tensor4D,
  labels: tf.Tensor,
  opts: LossOptions = {},
): LossParts {
  const { ceWeight = CE_WEIGHT, diceWeight = DICE_WEIGHT, smooth = DICE_SMOOTH } = opts;
  const k = logits.shape[3];
  return tf.tidy(() => {
    // oneHot in its default int32, then cast: tfjs-backend-wasm 4.22 returns all zeros for oneHot(…, 'float32').
    const g = tf.cast(
      labels.rank === 4 ? labels : tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor3D, k),
      'float32',
    );
    const logp = tf.logSoftmax(logits, -1);
    const ce = tf.neg(tf.mean(tf.sum(tf.mul(g, logp), -1))) as tf.Scalar;
    const p = tf.exp(logp);
    const axes = [0, 1, 2];
    const inter = tf.sum(tf.mul(p, g), axes);
    const pp = tf.sum(tf.mul(p, p), axes);
    const gg = tf.sum(tf.mul(g, g), axes);
    const perClass = tf.sub(
      1,
      tf.div(tf.add(tf.mul(inter, 2), smooth), tf.add(tf.add(pp, gg), smooth)),
    );
    const dice = tf.mean(perClass) as tf.Scalar;
    const loss = tf.add(tf.mul(ce, ceWeight), tf.mul(dice, diceWeight)) as tf.Scalar;
    return { loss, ce, dice };
  });
}
