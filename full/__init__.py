"""full/: the ResNet-18 reproduction of Zhang et al. (ICLR 2022) on real images.

Everything scientific (recipes, predictors, losses, metrics, gradient decomposition) comes from
:mod:`collapse`; this package adds only what real images need: a CIFAR ResNet-18 backbone with
SimSiam's projector (:mod:`full.encoder`), the datasets (:mod:`full.data`), batch-wise on-device
augmentation (:mod:`full.augment`), the training loop (:mod:`full.train`), checkpoints
(:mod:`full.checkpoint`), evaluation (:mod:`full.evaluate`), the benchmark (:mod:`full.bench`)
and the table of the paper's variants (:mod:`full.paper_table`).
"""
