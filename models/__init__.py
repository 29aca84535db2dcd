"""The shipped models, installed as the package ``seqtagger_models`` (one model directory each:
``conll03-en``, the default NER model; ``conll03-pos-chunk``; ``ud-ewt-upos``), so that a wheel
built from this repository tags out of the box."""
