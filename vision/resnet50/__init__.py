"""ResNet50-v1.5 on ImageNet: the MLPerf v0.5 heavy image-classification benchmark."""
