"""Training data: sample layout, synthetic samples, image shards (ours and 4D-Humans'), AMASS motion."""
