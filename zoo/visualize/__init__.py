"""Drawings of what runs and models produce, as PNG/HTML files, one module per kind of drawing (e.g.
`curves`, `embeddings`, `attention_maps`); matplotlib `Figure` objects only: importing this changes no backend.
"""
