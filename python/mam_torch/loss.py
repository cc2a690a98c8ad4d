"""The losses of the two families.

2D (MAM-SPEC §5): 0.4·CE + 0.6·Dice, Dice loss = mean over all K classes (background
included) of 1 − (2Σp·g + 1e-5) / (Σp² + Σg² + 1e-5), softmax probabilities, sums over the
whole batch (as the reference DiceLoss).

3D (3D-MAM-SPEC §f): MONAI's DiceCELoss(to_onehot_y=True, softmax=True) with its defaults, as
src/train/loss-volume.ts: Dice per sample and class, 1 − (2Σp·g + 1e-5) / (Σp + Σg + 1e-5)
(sums over the voxels only, not squared), averaged over samples and classes; CE over every
voxel; weights 1 : 1."""
import torch
import torch.nn.functional as F

CE_WEIGHT, DICE_WEIGHT, SMOOTH = 0.4, 0.6, 1e-5
VOLUME_CE_WEIGHT, VOLUME_DICE_WEIGHT = 1, 1


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


def per_sample_dice(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """MONAI's Dice loss (batch=False, squared_pred=False): N×K terms, one per sample and class."""
    k = logits.shape[1]
    p = logits.softmax(1)
    g = F.one_hot(labels, k).movedim(-1, 1).to(p.dtype)
    dims = tuple(range(2, logits.dim()))
    return 1 - (2 * (p * g).sum(dims) + SMOOTH) / (p.sum(dims) + g.sum(dims) + SMOOTH)


def dice_ce_loss(logits: torch.Tensor, labels: torch.Tensor, weights=(VOLUME_CE_WEIGHT, VOLUME_DICE_WEIGHT)):
    """The volumes' loss: logits NCDHW, labels N×D×H×W (int64) → (loss, ce, dice)."""
    ce = F.cross_entropy(logits, labels)
    dice = per_sample_dice(logits, labels).mean()
    return weights[0] * ce + weights[1] * dice, ce, dice
