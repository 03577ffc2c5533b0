"""From a question to ranked passages: parsing, lexical, dense, fusion, reranking."""
