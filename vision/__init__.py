"""Vision benchmarks: image classification (ImageNet) and object detection (COCO)."""
