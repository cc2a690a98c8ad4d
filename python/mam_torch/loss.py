"""The paper's loss (MAM-SPEC §5): 0.4·CE + 0.6·Dice, Dice loss = mean over all K classes
(background included) of 1 − (2Σp·g + 1e-5) / (Σp² + Σg² + 1e-5), softmax probabilities,
sums over the whole batch (as the reference DiceLoss)."""
import torch
import torch.nn.functional as F

CE_WEIGHT, DICE_WEIGHT, SMOOTH = 0.4, 0.6, 1e-5


def segmentation_loss(logits: torch.Tensor, labels: torch.Tensor):
    """logits NCHW (or NCDHW), labels N×H×W (N×D×H×W, int64) → (loss, ce, dice)."""
    k = logits.shape[1]
    ce = F.cross_entropy(logits, labels)
    p = logits.softmax(1)
    g = F.one_hot(labels, k).movedim(-1, 1).to(p.dtype)
    dims = (0, *range(2, logits.dim()))
    per_class = 1 - (2 * (p * g).sum(dims) + SMOOTH) / ((p * p).sum(dims) + (g * g).sum(dims) + SMOOTH)
    dice = per_class.mean()
    return CE_WEIGHT * ce + DICE_WEIGHT * dice, ce, dice
