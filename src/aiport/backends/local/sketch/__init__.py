"""The sketch renderer: prompt → scene → layout → a flat illustration painted with Pillow."""
