// The current route, following the address bar's hash.
import { type Route, href, parseHash } from './routes';

export { type Route, href, scanRoute } from './routes';

class Router {
  route = $state<Route>(parseHash(window.location.hash));
  /** Changes on every navigation, even to the same route, so screens start fresh. */
  visit = $state(0);

  constructor() {
    window.addEventListener('hashchange', () => {
      this.route = parseHash(window.location.hash);
      this.visit += 1;
    });
  }

  go(route: Route): void {
    window.location.hash = href(route);
  }
}

export const router = new Router();
