package dev.pgmux.proxy.console;

import dev.pgmux.protocol.auth.ScramServerSession;
import dev.pgmux.proxy.ProxyRuntime;
import dev.pgmux.proxy.tenant.Tenant;
import dev.pgmux.proxy.tenant.TenantRegistry;

/**
 * How a login to the console database authenticates. A console user proves its own password. Anyone else
 * goes through SCRAM too, so that console names cannot be probed: a tenant user with its own password (and
 * is then refused, 28000, having proved who it is), an unknown name a mock exchange that fails as a wrong
 * password does (28P01), as everywhere else.
 *
 * @param user the console user, or null when the login is to be refused once authenticated
 */
public record ConsoleLogin(Console.User user, ScramServerSession scram) {

    public static ConsoleLogin start(ProxyRuntime runtime, String startupUser) {
        Console.User user = runtime.console().user(startupUser);
        if (user != null) {
            return new ConsoleLogin(user, ScramServerSession.forSecret(user.secret(), runtime.random()));
        }
        Tenant.User tenantUser = null;
        if (runtime.tenants().resolve(startupUser) instanceof TenantRegistry.Resolution.Found found) {
            tenantUser = found.tenant().user(found.userName());
        }
        // A user known by an MD5 hash only cannot prove itself by SCRAM: as unknown as any other name here.
        return new ConsoleLogin(null, tenantUser != null && tenantUser.secret() != null
                ? ScramServerSession.forSecret(tenantUser.secret(), runtime.random())
                : ScramServerSession.mock(startupUser, runtime.mockScramKey(), runtime.random()));
    }

    /** The FATAL message for an authenticated user that is no console user. */
    public static String notAllowed(String startupUser) {
        return "not allowed: \"" + startupUser + "\" may not use the admin console (it is not in admin_users or "
                + "stats_users)";
    }
}
