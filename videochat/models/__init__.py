"""Models: the catalog, name resolution, the Hugging Face Hub, downloads and their record, what is on disk, memory fit."""
