/** An anchor that navigates client-side, keeping real hrefs so middle-click and copy-link work. */
import type { ComponentChildren } from "preact";
import { navigate } from "../router.ts";

interface Props {
  href: string;
  children: ComponentChildren;
  class?: string;
  title?: string;
  "aria-label"?: string;
}

export function Link({ href, children, ...rest }: Props) {
  return (
    <a
      href={href}
      {...rest}
      onClick={(event) => {
        if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
          return;
        event.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
