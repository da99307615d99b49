"""MobileNet-v1 1.0 224 on ImageNet: the MLPerf v0.5 light image-classification benchmark."""
