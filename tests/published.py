"""Parameter totals from outside the code: the source documents, papers, torchvision, or a derivation
written out here. Tests compare the engine's rows and printed totals with these."""

from __future__ import annotations

TOTAL_PARAMS: dict[str, int] = {
    "alexnet": 62_378_344,  # ../shared/seeds 000, its table's total
    "alexnet-grouped": 60_965_224,  # the paper's two-GPU network (seeds README)
    # the figure for BVLC AlexNet (the ONNX model zoo's light_bvlc_alexnet.onnx): the same
    # two-GPU network as alexnet-grouped, at 224 x 224
    "bvlc-alexnet": 60_965_224,
    "batchnorm-2d": 13_440,  # seeds 002, the 2D example's total
    "batchnorm-3d": 23_520,  # seeds 002, the 3D example's total
    # Radford et al. figure 1: 4x4 kernels, no bias, 100-1024-512-256-128-3 channels, and batch norm
    # on the 3,840 channels of the four hidden layers (derived in tests/test_architecture_files.py)
    "dcgan-generator": 12_658_432,
    "densenet121": 7_978_856,  # torchvision.models.densenet121, DenseNet121_Weights meta["num_params"]
    # conv 7x7x3x64 + 64 = 9,472; conv 1x1x64x64 + 64 = 4,160; conv 3x3x64x192 + 192 = 110,784
    # Yu and Koltun: the basic context module has 64 C^2 weights (seven 3x3 layers and one 1x1, C
    # to C), for C = 21, and one bias per feature map of each of the 8 layers
    "dilated-context": 64 * 21**2 + 8 * 21,
    # torchvision.models.efficientnet_b0, EfficientNet_B0_Weights meta["num_params"]
    "efficientnet-b0": 5_288_548,
    "googlenet-stem": 9_472 + 4_160 + 110_784,
    # 1x1: 192x64 + 64 = 12,352; 3x3 reduce: 192x96 + 96 = 18,528; 3x3: 9x96x128 + 128 = 110,720;
    # 5x5 reduce: 192x16 + 16 = 3,088; 5x5: 25x16x32 + 32 = 12,832; pool proj: 192x32 + 32 = 6,176
    "inception-3a": 12_352 + 18_528 + 110_720 + 3_088 + 12_832 + 6_176,
    "lenet5": 61_706,  # LeNet-5 with full C3 connections, as PyTorch tutorials build it
    "mnist": 4_058,  # seeds 003, question 4
    "mobilenet-v2": 3_504_872,  # torchvision.models.mobilenet_v2, MobileNet_V2_Weights meta["num_params"]
    # torchvision.models.mobilenet_v3_small, MobileNet_V3_Small_Weights meta["num_params"]
    "mobilenet-v3-small": 2_542_856,
    "resnet18": 11_689_512,  # torchvision.models.resnet18, ResNet18_Weights meta["num_params"]
    "resnet50": 25_557_032,  # torchvision.models.resnet50, ResNet50_Weights meta["num_params"]
    # torchvision.models.squeezenet1_1, SqueezeNet1_1_Weights meta["num_params"]
    "squeezenet1-1": 1_235_496,
    # Ronneberger et al. figure 1: its 23 convolutions, summed in tests/test_architecture_files.py
    "unet": 31_030_658,
    # the file's own small 3D U-Net (no published figure), summed in tests/test_architecture_files.py
    "unet3d": 1_193_643,
    "vgg16": 138_357_544,  # torchvision.models.vgg16, VGG16_Weights meta["num_params"]
    # the file's own WaveNet-style stack (the paper gives no channel counts), summed in
    # tests/test_architecture_files.py
    "wavenet": 420_224,
}

RECEPTIVE_FIELDS: dict[str, dict[str, int]] = {
    # Yu and Koltun, table 1: the receptive field of each layer of the context module
    "dilated-context": {f"Layer-{i}": r for i, r in enumerate((3, 5, 9, 17, 33, 65, 67, 67), start=1)},
    # AlexNet's Conv-5 sees 163 x 163 pixels: 11, then +2x4, +4x8, +2x8, +2x16 three times
    "alexnet": {"Conv-1": 11, "MaxPool-1": 19, "Conv-2": 51, "MaxPool-2": 67, "Conv-5": 163},
}
