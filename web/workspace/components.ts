/** The Fluent UI web components the workspace uses (Teams' own design language), defined once. */
import '@fluentui/web-components/anchor-button.js';
import '@fluentui/web-components/badge.js';
import '@fluentui/web-components/button.js';
import '@fluentui/web-components/checkbox.js';
import '@fluentui/web-components/dropdown.js';
import '@fluentui/web-components/field.js';
import '@fluentui/web-components/listbox.js';
import '@fluentui/web-components/message-bar.js';
import '@fluentui/web-components/option.js';
import '@fluentui/web-components/spinner.js';
import '@fluentui/web-components/text-input.js';
