"""Settings shared by the whole test suite (append to this file, do not rewrite it)."""

import os

# Nothing in the test suite may reach a model or data hub; these must be set
# before transformers or huggingface_hub are first imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
