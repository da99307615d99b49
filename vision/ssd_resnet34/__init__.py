"""SSD-ResNet34 1200x1200 on COCO (MLPerf Inference v0.5 'ssd-resnet34', 'ssd-large')."""
