// What a model is: its family (how to pre- and post-process it), its files, input size and
// class names. Read from a small JSON sidecar and/or flags, never guessed from code:
//
//   {"family": "yolox", "weights": "yolox_nano.onnx", "input": [416, 416], "labels": "coco.names"}
//
// Darknet models add "config": "model.cfg". Relative paths are relative to the sidecar. The
// sidecar is the --model argument itself (a .json file) or lies beside the weights as
// <weights>.json or <weights without extension>.json. Flags override the sidecar.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace kv::detect {

enum class ModelFamily { kYolox, kFastestDet, kDarknet };

struct ModelSpec {
  ModelFamily family = ModelFamily::kYolox;
  std::string weights;  // .onnx, or Darknet .weights
  std::string config;   // Darknet .cfg
  int input_width = 0;
  int input_height = 0;
  std::string labels;  // class names file; empty: COCO's 80
};

// The overrides given on the command line; empty / 0 fields are not set.
struct ModelFlags {
  std::string model;   // weights or a .json sidecar
  std::string family;  // "yolox", "fastestdet", "darknet"
  std::string config;
  std::string labels;
  int input_size = 0;  // square input
};

// Resolves the model from its sidecar and the flags. Errors name what is missing and how to give
// it: kNotFound for missing files, kInvalidArgument for an unknown family or a bad sidecar.
Result<ModelSpec> resolve_model(const ModelFlags& flags);

Result<ModelFamily> parse_family(const std::string& name);
const char* family_name(ModelFamily family);

}  // namespace kv::detect
