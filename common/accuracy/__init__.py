"""Accuracy: reading LoadGen's accuracy log and the scorers (top-1, COCO mAP, BLEU)."""
