"""PyTorch reference definitions for @scan-repro/models parity goldens.

Written for this repo from the structure of the official SCAN files (models/resnet_cifar.py,
models/resnet_stl.py, models/models.py) and torchvision's ResNet-50, with a width multiplier and per-stage
block counts added. State-dict names are the official ones:
  CIFAR/STL BasicBlock projection: layerS.B.shortcut.0 (conv) / .shortcut.1 (BN)
  ResNet-50 Bottleneck projection: layerS.B.downsample.0 / .downsample.1 (torchvision)
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18Scan(nn.Module):
    """variant='cifar': resnet_cifar.py; variant='stl': resnet_stl.py (MaxPool2d(2,2,1), AvgPool2d(7,1))."""

    def __init__(self, variant='cifar', width=64, blocks=(2, 2, 2, 2)):
        super().__init__()
        self.variant = variant
        self.in_planes = width
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        if variant == 'stl':
            self.maxpool = nn.MaxPool2d(kernel_size=2, stride=2, padding=1)
        self.layer1 = self._make_layer(width, blocks[0], 1)
        self.layer2 = self._make_layer(2 * width, blocks[1], 2)
        self.layer3 = self._make_layer(4 * width, blocks[2], 2)
        self.layer4 = self._make_layer(8 * width, blocks[3], 2)
        self.avgpool = nn.AvgPool2d(7, stride=1) if variant == 'stl' else nn.AdaptiveAvgPool2d((1, 1))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes, n, stride):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        if self.variant == 'stl':
            out = self.maxpool(out)
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return torch.flatten(self.avgpool(out), 1)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)  # v1.5: stride on the 3×3
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_planes != planes * 4:
            self.downsample = nn.Sequential(nn.Conv2d(in_planes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet50(nn.Module):
    """torchvision.models.resnet50 layout with fc = Identity (features 8·width·4)."""

    def __init__(self, width=64, blocks=(3, 4, 6, 3)):
        super().__init__()
        self.in_planes = width
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(width, blocks[0], 1)
        self.layer2 = self._make_layer(2 * width, blocks[1], 2)
        self.layer3 = self._make_layer(4 * width, blocks[2], 2)
        self.layer4 = self._make_layer(8 * width, blocks[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Identity()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes, n, stride):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(Bottleneck(self.in_planes, planes, s))
            self.in_planes = planes * 4
        return nn.Sequential(*layers)

    def forward(self, x):
        out = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.fc(torch.flatten(self.avgpool(out), 1))


class ContrastiveModel(nn.Module):
    def __init__(self, backbone, dim, hidden, out):
        super().__init__()
        self.backbone = backbone
        self.contrastive_head = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, out))

    def forward(self, x):
        return F.normalize(self.contrastive_head(self.backbone(x)), dim=1)


class ClusteringModel(nn.Module):
    def __init__(self, backbone, dim, nclusters, nheads):
        super().__init__()
        self.backbone = backbone
        self.cluster_head = nn.ModuleList([nn.Linear(dim, nclusters) for _ in range(nheads)])

    def forward(self, x):
        f = self.backbone(x)
        return [h(f) for h in self.cluster_head]
