"""GNMT (4-layer, WMT16 English-German): plain-torch model, TF checkpoint loader, exact beam search, BLEU."""
