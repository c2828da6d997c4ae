// One polite live region for the whole app, so progress is heard whatever
// screen the technician is on, and never twice.
class Announcer {
  message = $state('');

  announce(text: string): void {
    this.message = text;
  }
}

export const announcer = new Announcer();
