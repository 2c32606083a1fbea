"""Example projects (each folder is standalone); demo.py runs the lifecycle on them."""
