// SPDX-License-Identifier: Apache-2.0
// Placeholder until the histogram family lands.
#include "core/error.h"
#include "observers/observer.h"

namespace qk {
std::unique_ptr<Observer> make_histogram_observer(ObserverKind kind, const QuantSpec&) {
  fail(Status::kUnsupported, "observer kind %s is not implemented yet", observer_kind_name(kind));
}
}  // namespace qk
