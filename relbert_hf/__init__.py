"""relbert-hf: RelBERT relation embeddings as a Hugging Face model and pipeline.

Importing the package registers `RelBertConfig`/`RelBertModel` with the Auto classes and the `relation-embedding`
pipeline task, so that saved RelBERT folders and checkpoints of the original `relbert` library load with the installed
(trusted) code:

```python
>>> import relbert_hf
>>> from transformers import pipeline
>>> pipe = pipeline("relation-embedding", model="relbert/relbert-roberta-base-nce-semeval2012-0")
```
"""

from transformers import AutoConfig, AutoModel
from transformers.pipelines import PIPELINE_REGISTRY

from .configuration_relbert import AGGREGATION_MODES, DEFAULT_TEMPLATE, RelBertConfig
from .modeling_relbert import RelBertModel, RelBertOutput
from .pipeline_relbert import RelationEmbeddingPipeline


__version__ = "0.1.0"

AutoConfig.register(RelBertConfig.model_type, RelBertConfig, exist_ok=True)
AutoModel.register(RelBertConfig, RelBertModel, exist_ok=True)
PIPELINE_REGISTRY.register_pipeline(
    "relation-embedding", pipeline_class=RelationEmbeddingPipeline, pt_model=RelBertModel, type="text"
)

__all__ = [
    "AGGREGATION_MODES",
    "DEFAULT_TEMPLATE",
    "RelBertConfig",
    "RelBertModel",
    "RelBertOutput",
    "RelationEmbeddingPipeline",
]
