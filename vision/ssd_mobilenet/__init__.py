"""SSD-MobileNet-v1 300x300 on COCO (MLPerf Inference v0.5 'ssd-mobilenet', 'ssd-small')."""
