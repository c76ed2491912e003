package dev.pgmux.loadtest.engine;

import dev.pgmux.loadtest.dsl.Population;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/** The users of one population: its scenario, connection source and live count. */
final class UserGroup {
    final Population population;
    final ConnectionSource source;
    final AtomicInteger active = new AtomicInteger();
    /** Released once per finished user, so a closed-model injector can start a replacement at once. */
    final Semaphore finishedSignal = new Semaphore(0);

    UserGroup(Population population, ConnectionSource source) {
        this.population = population;
        this.source = source;
    }

    boolean closedModel() {
        return population.profile() instanceof Population.Closed;
    }
}
