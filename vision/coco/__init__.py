"""COCO 2017 val shared by the two SSD benchmarks: annotations, preprocessing, cache, sample data."""
