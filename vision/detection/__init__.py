"""What the COCO detectors (SSD-MobileNet, SSD-ResNet34) share: benchmark base, task, NMS, payload, export."""
