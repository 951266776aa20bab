"""The toolkit on Tron: the node's and TronGrid's HTTP APIs (`node`), the case's Tron index
(`sync`), addresses, traces and clusters on it (`analysis`), the issuer's and swap
services' records (`links`), and sweeping a recovered key (`sweep`). Encodings are in
`investigator_tools.chain.codec` (`tron`, `protobuf`)."""
