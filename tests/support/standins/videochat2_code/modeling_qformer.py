# Stand-in for InternVideo2-Chat's Q-Former: learned queries (and, if given, an instruction's
# words) read the video features through cross-attention. Its sizes come from the config of the
# hub repo "bert-base-uncased", which the real code also asks for by that hard-coded name.
import torch
from torch import nn
from transformers import BertConfig

QFORMER_REPO = "bert-base-uncased"


class QFormer(nn.Module):
    def __init__(self, num_queries, vision_width):
        super().__init__()
        bert = BertConfig.from_pretrained(QFORMER_REPO)
        self.hidden_size = bert.hidden_size
        self.queries = nn.Parameter(torch.randn(1, num_queries, bert.hidden_size) * bert.initializer_range)
        self.word_embeddings = nn.Embedding(bert.vocab_size, bert.hidden_size)
        self.vision_proj = nn.Linear(vision_width, bert.hidden_size)
        layer = nn.TransformerDecoderLayer(bert.hidden_size, bert.num_attention_heads, bert.intermediate_size,
                                           dropout=bert.hidden_dropout_prob, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, bert.num_hidden_layers)

    def grow_vocabulary(self, size):
        """Add rows for tokens added to its tokenizer, drawn around the existing rows (as transformers'
        resize_token_embeddings does). It reads the weights, so it cannot run on the meta device:
        like the real constructor, this one fails under low_cpu_mem_usage=True."""
        old = self.word_embeddings.weight.data
        spread = float(old.std())
        new = old.mean(dim=0) + spread * torch.randn(size - len(old), old.shape[1], dtype=old.dtype)
        self.word_embeddings = nn.Embedding.from_pretrained(torch.cat([old, new]), freeze=False)

    def forward(self, vision_features, instruction_ids=None):
        count = self.queries.shape[1]
        queries = self.queries.expand(len(vision_features), -1, -1)
        if instruction_ids is not None:
            words = self.word_embeddings(instruction_ids.to(queries.device)).expand(len(vision_features), -1, -1)
            queries = torch.cat([queries, words.to(queries.dtype)], dim=1)
        return self.decoder(queries, self.vision_proj(vision_features))[:, :count]
