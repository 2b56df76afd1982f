/* SPDX-License-Identifier: Apache-2.0 */
/* Java part of bindings/quantkit.i: not written yet (see bindings/README.md). */
