"""The ImageNet 2012 validation set, shared by ResNet50 and MobileNet: labels, preprocessing, cache."""
