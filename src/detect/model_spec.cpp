#include "detect/model_spec.h"

#include <filesystem>
#include <fstream>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kv::detect {
namespace fs = std::filesystem;
namespace {

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// The sidecar for `model`: the model itself when it is JSON, else one beside it, else none.
std::optional<fs::path> find_sidecar(const fs::path& model) {
  if (model.extension() == ".json") return model;
  for (const fs::path& candidate :
       {fs::path(model.string() + ".json"), fs::path(model).replace_extension(".json")}) {
    if (is_file(candidate)) return candidate;
  }
  return std::nullopt;
}

Status read_sidecar(const fs::path& file, ModelSpec& spec, std::string& family) {
  std::ifstream in(file);
  if (!in)
    return make_error(ErrorCode::kNotFound,
                      fmt::format("cannot read model sidecar '{}'", file.string()));
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("model sidecar '{}': {}", file.string(), why));
  };
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    return bad(fmt::format("not valid JSON: {}", e.what()));
  }
  if (!j.is_object()) return bad("expected a JSON object");
  const fs::path dir = file.parent_path();
  auto path_field = [&](const char* key, std::string& out) -> Status {
    if (!j.contains(key)) return ok_status();
    if (!j[key].is_string()) return bad(fmt::format("\"{}\" must be a string", key));
    const fs::path p(j[key].get<std::string>());
    out = (p.is_absolute() ? p : dir / p).lexically_normal().string();
    return ok_status();
  };
  for (const auto& [key, _] : j.items()) {
    if (key != "family" && key != "weights" && key != "config" && key != "input" &&
        key != "labels" && key != "comment")
      return bad(
          fmt::format("unknown field \"{}\" (known: family, weights, config, input, "
                      "labels, comment)",
                      key));
  }
  if (j.contains("family")) {
    if (!j["family"].is_string()) return bad("\"family\" must be a string");
    family = j["family"].get<std::string>();
  }
  if (Status s = path_field("weights", spec.weights); !s) return s;
  if (Status s = path_field("config", spec.config); !s) return s;
  if (Status s = path_field("labels", spec.labels); !s) return s;
  if (j.contains("input")) {
    const auto& in_size = j["input"];
    if (!in_size.is_array() || in_size.size() != 2 || !in_size[0].is_number_integer() ||
        !in_size[1].is_number_integer())
      return bad("\"input\" must be [width, height]");
    spec.input_width = in_size[0].get<int>();
    spec.input_height = in_size[1].get<int>();
  }
  return ok_status();
}

}  // namespace

const char* family_name(ModelFamily family) {
  switch (family) {
    case ModelFamily::kYolox:
      return "yolox";
    case ModelFamily::kFastestDet:
      return "fastestdet";
    case ModelFamily::kDarknet:
      return "darknet";
  }
  return "?";
}

Result<ModelFamily> parse_family(const std::string& name) {
  for (ModelFamily f : {ModelFamily::kYolox, ModelFamily::kFastestDet, ModelFamily::kDarknet}) {
    if (name == family_name(f)) return f;
  }
  return make_error(
      ErrorCode::kInvalidArgument,
      fmt::format("unknown model family '{}' (known: yolox, fastestdet, darknet)", name));
}

Result<ModelSpec> resolve_model(const ModelFlags& flags) {
  ModelSpec spec;
  std::string family;
  const fs::path model(flags.model);
  const auto sidecar = find_sidecar(model);
  if (model.extension() == ".json" && !is_file(model))
    return make_error(ErrorCode::kNotFound,
                      fmt::format("model sidecar not found: '{}'", flags.model));
  if (sidecar) {
    if (Status s = read_sidecar(*sidecar, spec, family); !s) return s.error();
  }
  if (model.extension() != ".json") spec.weights = flags.model;
  if (!flags.family.empty()) family = flags.family;
  if (!flags.config.empty()) spec.config = flags.config;
  if (!flags.labels.empty()) spec.labels = flags.labels;
  if (flags.input_size > 0) spec.input_width = spec.input_height = flags.input_size;

  const std::string where =
      sidecar ? fmt::format(" (sidecar '{}')", sidecar->string()) : std::string();
  if (spec.weights.empty())
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("model{}: no \"weights\" file given", where));
  if (!is_file(spec.weights))
    return make_error(ErrorCode::kNotFound,
                      fmt::format("model file not found: '{}'{}", spec.weights, where));
  if (family.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("model '{}': its family is not given: pass --family "
                                  "yolox|fastestdet|darknet, or write a sidecar {}.json with "
                                  "{{\"family\": ..., \"input\": [w, h]}} (see docs/models.md)",
                                  flags.model, model.stem().string()));
  }
  auto f = parse_family(family);
  if (!f) return f.error();
  spec.family = *f;
  if (spec.family == ModelFamily::kDarknet) {
    if (spec.config.empty() && fs::path(spec.weights).extension() == ".weights")
      spec.config = fs::path(spec.weights).replace_extension(".cfg").string();
    if (!is_file(spec.config))
      return make_error(
          ErrorCode::kNotFound,
          fmt::format("Darknet config not found: '{}' (give --config or \"config\")", spec.config));
  }
  if (spec.input_width <= 0 || spec.input_height <= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("model '{}': its input size is not given: pass --input-size N "
                                  "or \"input\": [w, h] in its sidecar",
                                  spec.weights));
  }
  if (!spec.labels.empty() && !is_file(spec.labels))
    return make_error(ErrorCode::kNotFound,
                      fmt::format("class names file not found: '{}'{}", spec.labels, where));
  return spec;
}

}  // namespace kv::detect
