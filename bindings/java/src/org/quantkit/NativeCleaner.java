// SPDX-License-Identifier: Apache-2.0
package org.quantkit;

import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.util.Collections;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Frees the native object of a handle that became unreachable without close(). What
 * java.lang.ref.Cleaner does, written out because Android has Cleaner only from API 33; no
 * finalizers (deprecated for removal, JEP 421). The action holds the native pointer, never the
 * handle, or the handle could never become unreachable. One daemon thread runs the actions.
 */
final class NativeCleaner {
  interface Cleanable {
    /** Runs the action now if it has not run yet (close()); at most once, from any thread. */
    void clean();
  }

  private static final ReferenceQueue<Object> QUEUE = new ReferenceQueue<>();
  // Keeps the references themselves reachable until they are cleaned.
  private static final Set<Ref> LIVE = Collections.newSetFromMap(new ConcurrentHashMap<Ref, Boolean>());

  static {
    Thread t = new Thread(NativeCleaner::drain, "quantkit-cleaner");
    t.setDaemon(true);
    t.start();
  }

  private NativeCleaner() {}

  static Cleanable register(Object owner, Runnable action) {
    Ref r = new Ref(owner, action);
    LIVE.add(r);
    return r;
  }

  private static final class Ref extends PhantomReference<Object> implements Cleanable {
    private final AtomicReference<Runnable> action;

    Ref(Object owner, Runnable action) {
      super(owner, QUEUE);
      this.action = new AtomicReference<>(action);
    }

    @Override
    public void clean() {
      Runnable a = action.getAndSet(null);
      if (a != null) {
        LIVE.remove(this);
        a.run();
      }
    }
  }

  private static void drain() {
    while (true) {
      try {
        ((Ref) QUEUE.remove()).clean();
      } catch (InterruptedException e) {
        // daemon thread: nothing to stop for; keep draining
      } catch (RuntimeException e) {
        // one failing action must not stop the others
      }
    }
  }
}
