"""What the ImageNet classifiers (ResNet50, MobileNet) share: layers, weight loading, export, task."""
