"""Task metrics: SQuAD EM/F1, BLEU, perplexity, analogies."""
