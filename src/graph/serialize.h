// SPDX-License-Identifier: Apache-2.0
// Graph v2 <-> .qkw file (docs/MODEL_GRAPH.md, "Graph text v2"). The graph is line-based text
// stored as the u8 tensor "model.graph.v2" (no metadata size cap: the bound is the file's own
// size), constants as tensors "const/<name>". Loading rebuilds the graph through the same
// validated builder calls; every failure is QK_ERR_CORRUPT naming the line.
#pragma once

#include <memory>

#include "graph/graph.h"
#include "quantkit/quantkit.h"

namespace qk {
namespace graph {

void save_graph(const Graph& g, const char* path);
// Null when the file holds no v2 graph (a layer-API model file: model.graph metadata).
std::unique_ptr<Graph> load_graph(const qk_qkw_reader* reader);
// The graph text alone (the fuzz target and tests).
std::string graph_text(const Graph& g);

// Builds every int8 / dynamic node's prepared state (convert and load share it).
void prepare_nodes(Graph& g);

}  // namespace graph
}  // namespace qk
