#include "agents/common/agent_settings.h"

namespace rl {

TorsoOptions read_torso_options(ConfigSection& s, const TorsoOptions& defaults,
                                const std::string& kind_note) {
  TorsoOptions d = defaults;
  std::string kind_doc =
      "Feature extractor: mlp, minatar_cnn (one 3x3 conv, small grids), nature_cnn (three convs, "
      "images >= 36x36) or auto (by shape)";
  if (!kind_note.empty()) kind_doc += "; " + kind_note;
  d.kind = s.get_choice("torso", d.kind, kind_doc, {"auto", "mlp", "minatar_cnn", "nature_cnn"});
  d.hidden = s.get_int_list("hidden", d.hidden, "MLP hidden layer sizes", 1, 65536);
  d.activation = s.get_choice("activation", d.activation, "MLP activation", {"tanh", "relu"});
  d.cnn_channels =
      s.get_int("cnn_channels", d.cnn_channels, "MinAtar CNN: channels of the 3x3 conv", 1, 1024);
  d.cnn_hidden =
      s.get_int("cnn_hidden", d.cnn_hidden, "CNNs: units of the fully connected layer", 1, 65536);
  return d;
}

OptimizerSettings read_optimizer_settings(ConfigSection& s, const OptimizerSettings& defaults,
                                          const std::string& kind_doc) {
  OptimizerSettings d = defaults;
  d.kind = s.get_choice("optimizer", d.kind, kind_doc, {"adam", "rmsprop"});
  d.lr = s.get_float("lr", d.lr, "Learning rate", 1e-12, 10.0);
  d.adam_eps = s.get_float("adam_eps", d.adam_eps, "Adam epsilon", 1e-12, 1.0);
  d.rmsprop_alpha =
      s.get_float("rmsprop_alpha", d.rmsprop_alpha, "RMSprop smoothing constant", 0.0, 1.0);
  d.rmsprop_eps = s.get_float("rmsprop_eps", d.rmsprop_eps, "RMSprop epsilon", 1e-12, 1.0);
  return d;
}

}  // namespace rl
