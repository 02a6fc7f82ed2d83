"""Small PyTorch models written the way people write them, for ``import-torch``: together they use a
module or a function for every layer type of the registry, and a few things no layer type says."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

INSTALL = "not a model"


class Plane(nn.Module):
    """2D: convolutions, pools, padding and crops, norms, every activation, the joins, a dense head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.pad = nn.ZeroPad2d((1, 2, 1, 2))
        self.up = nn.ConvTranspose2d(8, 8, 2, stride=2, bias=False)
        self.avg = nn.AvgPool2d(2)
        self.gn = nn.GroupNorm(2, 8)
        self.inorm = nn.InstanceNorm2d(8, affine=True)
        self.lrn = nn.LocalResponseNorm(3)
        self.prelu = nn.PReLU(8)
        self.shuffle = nn.ChannelShuffle(2)
        self.gamma = nn.Parameter(torch.ones(8, 1, 1))  # ConvNeXt's layer scale: one number per channel
        self.acts = nn.Sequential(
            nn.LeakyReLU(0.2), nn.ELU(), nn.SELU(), nn.GELU(), nn.SiLU(), nn.Mish(), nn.Hardswish()
        )
        self.upsample = nn.Upsample(scale_factor=2)
        self.squeeze = nn.AdaptiveMaxPool2d(8)
        self.shrink = nn.AdaptiveAvgPool2d(4)
        self.side = nn.Conv2d(16, 16, 1)
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(16, 10)
        self.norm = nn.LayerNorm(10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.bn(self.conv(x))))  # 16x16
        x = self.pad(x)[:, :, 1:-2, 1:-2]  # 19x19, cropped back to 16x16
        x = self.avg(self.up(x))  # 32x32, then 16x16
        x = self.acts(self.prelu(self.shuffle(self.lrn(self.inorm(self.gn(x))))))
        low, high = (self.gamma * x).chunk(2, dim=1)  # ShuffleNetV2's split: two slices of the channels
        x = torch.cat([high, low], 1)
        x = self.shrink(self.squeeze(self.upsample(x)))  # 32x32, 8x8, then 4x4
        gated = torch.sigmoid(x) * torch.tanh(x)
        joined = torch.cat([gated, x], 1)
        x = F.relu6(joined + self.side(joined))
        x = self.drop(F.hardsigmoid(x))
        x = torch.flatten(F.adaptive_max_pool2d(x, 1), 1)
        return F.softmax(self.norm(self.fc(x)), dim=1)


class ChannelsLast(nn.Module):
    """ConvNeXt's block: a permute moves the channels last, where LayerNorm and Linear act on them."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, groups=1)
        self.norm = nn.LayerNorm(8)
        self.up = nn.Linear(8, 32)
        self.act = nn.GELU()
        self.down = nn.Linear(32, 8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        y = self.down(self.act(self.up(self.norm(x.permute(0, 2, 3, 1)))))
        x = x + y.permute(0, 3, 1, 2)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Line(nn.Module):
    """1D: a sequence of length L with C channels."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(4, 6, 3)
        self.pool = nn.MaxPool1d(2)
        self.avg = nn.AvgPool1d(3, stride=1)
        self.up = nn.ConvTranspose1d(6, 6, 3)
        self.pad = nn.ZeroPad1d((2, 1))
        self.adaptive = nn.AdaptiveAvgPool1d(6)
        self.adaptive_max = nn.AdaptiveMaxPool1d(3)
        self.stretch = nn.Upsample(scale_factor=2, mode="linear")
        self.bn = nn.BatchNorm1d(6)
        self.fc = nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pad(self.up(self.avg(self.pool(self.conv(x)))))  # 18, 9, 7, 9, 12
        x = self.stretch(self.adaptive_max(self.adaptive(x)))  # 6, 3, 6
        x = self.bn(F.pad(x, (-1, -1)))  # cropped to 4
        return self.fc(x.mean(2))


class Volume(nn.Module):
    """3D: a volume D x H x W with C channels."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv3d(2, 4, 3, padding=1)
        self.pool = nn.MaxPool3d(2)
        self.avg = nn.AvgPool3d(2)
        self.up = nn.ConvTranspose3d(4, 4, 2, stride=2)
        self.pad = nn.ZeroPad3d(1)
        self.adaptive_max = nn.AdaptiveMaxPool3d(2)
        self.adaptive = nn.AdaptiveAvgPool3d((1, 1, 2))
        self.fc = nn.Linear(32, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pad(self.up(self.avg(self.pool(self.conv(x)))))  # 8, 4, 2, 4, 6
        x = self.adaptive(self.adaptive_max(x[:, :, 1:-1, 1:-1, 1:-1]))  # 4, 2, 1x1x2
        x = F.interpolate(x, size=(2, 2, 2), mode="trilinear")
        return self.fc(x.view(x.size(0), -1))


class Unsupported(nn.Module):
    """Five things no layer type says, on branches of their own, each an error naming where it is."""

    def __init__(self) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.shared = nn.Conv2d(3, 3, 1)
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.pad(x)[:, :, 1:-1, 1:-1]
        b = self.shared(self.shared(x))  # one convolution's weights, used twice
        c = F.softmax(self.conv(x), dim=-1)  # over the width, not the channels
        d = x + 1
        e = torch.matmul(x, x)
        return a + b + c + d + e


class Net(nn.Module):
    """A small residual network, for the command-line tests."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.block = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8))
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.relu(self.block(x) + x)
        return self.fc(torch.flatten(self.pool(x), 1))


def net() -> nn.Module:
    return Net(classes=5)


class Unused(Net):
    """A module with parameters that forward never calls (as GoogLeNet's auxiliary heads at inference)."""

    def __init__(self) -> None:
        super().__init__()
        self.aux = nn.Linear(8, 2)
